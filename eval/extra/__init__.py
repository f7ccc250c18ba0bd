"""The second evaluation corpus: six documents in PDF, .docx, Markdown and text (see README.md)."""
