"""The bottom layer: upstream shims, atomic writes and image reading, boxes, provenance, weights
files. Nothing here imports another rdid_mm package."""
