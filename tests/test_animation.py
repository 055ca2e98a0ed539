import io

import numpy as np
import pytest
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image

from grsn_edu.course.plots.animation import animation_gif


def _moving_dot(frames=5, interval_ms=100):
    fig = Figure(figsize=(2, 2))
    ax = fig.subplots()
    (dot,) = ax.plot([0], [0], "o")
    ax.set_xlim(0, frames)

    def draw(i):
        dot.set_data([i], [0])
        return (dot,)

    return FuncAnimation(fig, draw, frames=frames, interval=interval_ms)


def test_animation_gif_holds_every_frame_at_the_animation_speed_and_loops():
    image = animation_gif(_moving_dot(frames=5, interval_ms=100))
    assert image.format == "gif" and image.data[:6] == b"GIF89a"
    gif = Image.open(io.BytesIO(image.data))
    assert gif.n_frames == 5 and gif.info["duration"] == 100 and gif.info["loop"] == 0
    frames = []
    for k in range(gif.n_frames):
        gif.seek(k)
        frames.append(np.asarray(gif.convert("RGB")))
    assert not np.array_equal(frames[0], frames[-1])  # the dot moved
    assert "image/gif" in image._repr_mimebundle_()[0]


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")  # the one refused for its fps
def test_animation_gif_rejects_what_is_not_an_animation_and_a_bad_speed():
    with pytest.raises(TypeError, match="matplotlib Animation"):
        animation_gif(Figure())
    with pytest.raises(ValueError, match="fps must be positive"):
        animation_gif(_moving_dot(), fps=0)
