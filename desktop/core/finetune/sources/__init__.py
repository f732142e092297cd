"""Where training examples come from: liked answers, and documents in a persona's voice."""
