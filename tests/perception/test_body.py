import numpy as np
from media_fixtures import hopper_frames

from affect_llm.perception.body import body_cues, pose_landmarks


def _pose(nose_x=0.0, wrist_y=2.0, count=4, wave=0.0):
    """Synthetic upright pose in shoulder-width units (image y grows downwards)."""
    points = np.zeros((count, 33, 3), dtype=np.float32)
    points[..., 2] = 0.9
    for t in range(count):
        p = points[t]
        p[11, :2], p[12, :2] = (1.0, 1.0), (0.0, 1.0)  # shoulders
        p[7, :2], p[8, :2] = (0.7, 0.0), (0.3, 0.0)  # ears
        p[0, :2] = (0.5 + nose_x, 0.05)  # nose
        p[13, :2], p[14, :2] = (1.1, 1.6), (-0.1, 1.6)  # elbows
        swing = wave * (t % 2)
        p[15, :2], p[16, :2] = (1.1 + swing, wrist_y - swing), (-0.1, wrist_y)  # wrists
    return points, np.ones(count, dtype=bool)


def test_still_frontal_pose_reads_as_calm():
    cues = body_cues(*_pose())
    assert cues.frames_with_pose == 4 and cues.hand_motion == 0.0 and cues.hands_raised == 0.0
    assert "facing the camera" in cues.description and "little arm movement" in cues.description


def test_turned_head_and_raised_waving_hand_are_described():
    cues = body_cues(*_pose(nose_x=0.3, wrist_y=0.5, wave=0.8))
    assert "turned to one side" in cues.description
    assert (
        "animated hand and arm movement" in cues.description and "hands raised" in cues.description
    )


def test_no_pose_found():
    points, found = _pose()
    assert body_cues(points, np.zeros_like(found)).description == "No body pose was detected."


def test_pose_model_runs_on_a_real_portrait():
    points, found = pose_landmarks(hopper_frames(2))
    assert points.shape == (2, 33, 3)
    assert found.all()
    assert (points[:, 0, 1] < 150).all()  # head-and-shoulders framing: nose in the upper part
    assert "arms and hands out of view" in body_cues(points, found).description
