"""AP against pixelation strength, one panel for box AP and one for keypoint AP."""
from typing import Dict, Sequence

from rdid_mm.utils.io import save_figure


def plot_ap_vs_strength(strengths: Sequence[int], series: Dict[str, dict], path: str,
                        title: str = '') -> None:
    """Lines with bootstrap intervals for each row of ``tables.sweep_series``; PNG at ``path``."""
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for axis, (column, label) in zip(axes, (('bbox_AP', 'box AP (%)'),
                                            ('kpt_AP', 'keypoint AP (%)'))):
        for name, by_strength in series.items():
            xs = [s for s in strengths if s in by_strength]
            values = [100 * by_strength[s][column][0] for s in xs]
            lows = [v - 100 * by_strength[s][column][1] for v, s in zip(values, xs)]
            highs = [100 * by_strength[s][column][2] - v for v, s in zip(values, xs)]
            style = '--' if name.upper() == 'GT' else '-'
            axis.errorbar(xs, values, yerr=[lows, highs], fmt=f'o{style}', capsize=3,
                          label=name)
        axis.set_xlabel('pixelation strength (block size, px)')
        axis.set_ylabel(label)
        axis.set_xticks(list(strengths))
        axis.grid(alpha=0.3)
    axes[1].legend(loc='best', fontsize='small')
    if title:
        figure.suptitle(title)
    save_figure(figure, path, dpi=120)
    plt.close(figure)
