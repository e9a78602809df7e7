"""How the bot reads what people type and says things back in plain words.

This package owns the understanding shared by every conversation: normalising what was
typed (full-width digits, trailing punctuation, spaces), matching it against the one
synonyms table per answer kind in bot/texts.py (yes / no / skip / done / ratings / greetings),
finding a ticket from the digits a member types (`ticketno`), plain dates for residents
(`dates`) and safety advice for urgent problems (`safety`). Flows and handlers ask it;
it keeps no state of its own.
"""
