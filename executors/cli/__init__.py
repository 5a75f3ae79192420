"""What every CLI backend shares: process handling, probes, settings, transcripts, the one-shot backend."""
