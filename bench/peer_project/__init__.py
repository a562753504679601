"""A minimal Django project around django-appointment, the bench's peer (issue 25).

It runs only in the peer's own virtual environment (data/bench/peer-venv, made by
bench/peer.py), never in the portal's: nothing here is imported by the portal, and
django-appointment is not a project dependency.
"""
