"""Fine-tuning on this computer: a LoRA adapter trained with PyTorch, transformers and PEFT
from one of Folio's datasets, converted to GGUF and applied by llama.cpp to the unchanged base
model.

``extra`` says whether the optional training packages (``folio[train]``) are installed;
``config`` holds a run's settings; ``data`` turns examples into token batches; ``trainer`` is
the training process itself; ``gguf_lora`` writes the adapter as llama.cpp reads it; ``runs``
starts, follows, cancels and resumes runs and manages the adapters they made.
"""
