"""Renderers: state -> JSON documents, text, and Slack Block Kit.

The client audience is built by `views.client_view`, an allow-list: renderers for clients only
ever see that view, never tickets or the internal state.
"""
