"""Change events: an outbox written in the same transaction as the change, relayed after commit.

Other apps receive every relayed event by registering a handler (`apps.events.receivers.register`), and
WebSocket clients subscribe to resources on /ws/events/.
"""
