"""Fine-tuning: training data, its validation, and provider jobs that turn it into a model.

A persona prompt changes how a model answers on each query; fine-tuning teaches a model to
answer that way by itself. The flow follows OpenAI's: prepare a dataset (``datasets``, from
an imported JSONL file, liked chat answers or pairs generated from documents in a persona's
voice), check it before anything leaves the machine (``validate``), upload it and train
(``jobs``), then use the new ``openai:ft:...`` model from the picker.

Data lives under the data folder: datasets as the JSONL files that get uploaded
(``finetune/datasets/<name>/``), jobs and their events in ``finetune.db``.
"""
