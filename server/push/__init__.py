"""Web Push: VAPID keys, device subscriptions and the sender (RFC 8030/8291/8292)."""
