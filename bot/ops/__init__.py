"""What running the bot on a real account needs beyond the conversations: template notices in
the account's own template, the menus, pulling the organisation from WeCom's contacts, backup
and restore, Prometheus metrics, JSON-lines logging, and the typed settings schema checked at
start-up. Each module is used by the CLI (`python -m bot …`), the app factory or the outbox;
none of them changes tickets."""
