"""The office's documents: the weekly 通报 and the 督办通知单 as .docx in the official layout (GB/T 9704)."""
