"""Safety alerts: things the care team must review. They say "review this", never what to do
with medication."""
