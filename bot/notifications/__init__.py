"""Notification state, pure: what a build's, video's or live session's message shows."""
