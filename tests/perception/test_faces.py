import numpy as np
import pytest
from media_fixtures import hopper_frames, no_face_frames

from affect_llm.perception.faces import crop_square, detect_faces, face_landmarks, track_faces


@pytest.mark.parametrize("backend", ["mediapipe", "opencv"])
def test_real_face_is_found_and_cropped_in_every_frame(backend):
    frames = hopper_frames(4)
    track = track_faces(frames, size=112, backend=backend)
    assert track.present.all()
    assert track.crops.shape == (4, 112, 112, 3) and track.crops.dtype == np.uint8
    x0, y0, x1, y1 = track.boxes[0]
    # The face sits in the upper middle of the 224 x 224 bundled frames.
    assert 40 < (x0 + x1) / 2 < 184 and 30 < (y0 + y1) / 2 < 160 and x1 - x0 > 40


def test_frames_without_a_face_are_marked_absent():
    track = track_faces(no_face_frames(3))
    assert not track.present.any()
    assert (track.crops == 0).all()


def test_main_subject_is_the_larger_face_and_is_followed():
    face = hopper_frames(1)[0]
    canvas = np.full((3, 300, 600, 3), 40, dtype=np.uint8)
    small = face[::2, ::2]
    canvas[:, 20:244, 20:244] = face  # main subject, left
    canvas[:, 150:262, 450:562] = small  # a smaller face, right
    assert len(detect_faces(canvas[0])) == 2
    track = track_faces(canvas)
    centres = (track.boxes[:, 0] + track.boxes[:, 2]) / 2
    assert track.present.all() and (centres < 300).all()


def test_crop_pads_at_the_border():
    frame = np.full((100, 100, 3), 255, dtype=np.uint8)
    crop = crop_square(frame, np.array([60.0, 60.0, 100.0, 100.0]), size=32)
    assert crop.shape == (32, 32, 3)
    assert crop[-1, -1].max() == 0 and crop[8, 8].min() == 255


def test_face_mesh_gives_478_landmarks_inside_the_crop():
    track = track_faces(hopper_frames(2))
    points, found = face_landmarks(track.present_crops)
    assert found.all() and points.shape == (2, 478, 3)
    assert (points[..., :2] >= 0).all() and (points[..., :2] <= 224).all()
