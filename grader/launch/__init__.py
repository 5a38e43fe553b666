"""The judge's side of executors: launching them (the fork-server template on Linux, a spawned
interpreter per executor anywhere), choosing the isolation level, and talking to one executor
with deadlines. Nothing here runs student code."""
