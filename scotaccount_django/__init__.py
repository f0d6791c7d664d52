"""Sign people in with ScotAccount and obtain their verified attributes."""
