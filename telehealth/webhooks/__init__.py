"""Webhooks for the clinic's systems (paging, SMS gateways, push relays): endpoints an admin
registers, signed deliveries of the public events (Standard Webhooks), a deliveries log with a
manual retry, and the address rules that keep the service from reaching inside its own network
(`urls`)."""
