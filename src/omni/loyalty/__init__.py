"""Loyalty: the points ledger, tiers, rewards and coupons."""
