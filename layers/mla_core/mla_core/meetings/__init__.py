"""Meetings: public hearings and staff meetings on LiveKit, transcribed per speaker by an AI note-taker."""
