"""The unified customer profile: identities, traits, computed traits, timeline and consent."""
