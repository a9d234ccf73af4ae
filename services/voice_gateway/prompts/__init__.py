"""Recorded wait announcements (tools/voice_prompts.py): 8 kHz G.711, .ul mu-law and .al A-law."""
