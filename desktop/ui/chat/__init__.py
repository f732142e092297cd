"""The chat pane, its messages, the chat list and the model picker."""
