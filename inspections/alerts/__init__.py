"""Who hears what about the inspection domain, and in which words.

`texts` holds the kinds of alert and their titles and bodies (gettext, rendered in the recipient's
language with `translation.override`); `policy` decides the recipients of each event (a round
assigned, changed or cancelled, a critical finding) and of the scheduled jobs (morning reminder,
stops still open at the end of the day, follow-ups due, the weekly summary), and writes each alert
through the generic `notifications.services.notification_create` in the caller's transaction.
"""
