"""Routing that learns: the organisation's own labels (members' and secretaries' recategorisations
and transfers, and tickets handled to the end), a scheduled retrain that keeps a new category model
only when its cross-validated F1 beats what routes now (model and keyword rules together), and
keyword suggestions for the rules while there is too little history for a model.
"""
