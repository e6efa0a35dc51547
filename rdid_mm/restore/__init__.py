"""Restoration of pixelated data from anyone: find mosaics, restore regions, images and videos.

One loop restores every input (:mod:`.loop`); import the submodules for the heavy parts, this
package import stays light (numpy, OpenCV).
"""
from .localiser import Mosaic, locate_mosaics

__all__ = ['Mosaic', 'locate_mosaics']
