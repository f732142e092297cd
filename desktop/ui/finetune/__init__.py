"""The fine-tuning studio: datasets, the example editor, jobs and the loss plot."""
