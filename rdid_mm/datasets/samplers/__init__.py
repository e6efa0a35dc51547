"""Samplers: the resumable training stream with per-sample seeds."""
from .resumable_infinite_sampler import ResumableInfiniteSampler, sample_seed

__all__ = ['ResumableInfiniteSampler', 'sample_seed']
