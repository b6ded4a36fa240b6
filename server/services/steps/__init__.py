"""The dispatch cycle's steps, one module each (reminders/cycle.py runs them in order): each
owns its SQL, answers the idle question for itself (base.py) and does its work."""
