"""Body cues from mediapipe pose landmarks: head orientation and movement, hand/arm motion energy and
posture, summarised as one sentence (optional; adds a pose-model pass per sampled frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_POSE: dict[str, object] = {}
# mediapipe pose landmark indices
_NOSE, _EAR_L, _EAR_R, _SHOULDER_L, _SHOULDER_R = 0, 7, 8, 11, 12
_WRIST_L, _WRIST_R, _ELBOW_L, _ELBOW_R = 15, 16, 13, 14


@dataclass
class BodyCues:
    """Per-clip body statistics, in units of shoulder width; None where the pose was never found."""

    frames_with_pose: int
    head_yaw: float | None  # nose offset from the ear midpoint / ear distance (+ = subject's left)
    head_tilt_deg: float | None  # roll of the ear line
    head_motion: float | None  # mean nose displacement between sampled frames
    hand_motion: float | None  # mean wrist+elbow displacement between sampled frames
    hands_raised: float | None  # share of frames with a wrist above the shoulders
    shoulder_tilt_deg: float | None
    description: str


def pose_landmarks(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """33 pose landmarks per frame in pixels (T x 33 x 3, z = visibility) and a found mask."""
    if "pose" not in _POSE:
        from affect_llm.perception.faces import import_mediapipe

        mp = import_mediapipe()

        # model_complexity=1: the only pose model inside the wheel (0 and 2 would be downloaded).
        _POSE["pose"] = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
    points = np.zeros((len(frames), 33, 3), dtype=np.float32)
    found = np.zeros(len(frames), dtype=bool)
    for index, frame in enumerate(frames):
        result = _POSE["pose"].process(np.ascontiguousarray(frame))
        if result.pose_landmarks is None:
            continue
        h, w = frame.shape[:2]
        points[index] = [(p.x * w, p.y * h, p.visibility) for p in result.pose_landmarks.landmark]
        found[index] = True
    return points, found


def body_cues(points: np.ndarray, found: np.ndarray) -> BodyCues:
    """Head pose and movement, hand/arm motion energy and posture from pose landmarks."""
    p = points[found]
    if len(p) == 0:
        return BodyCues(0, None, None, None, None, None, None, "No body pose was detected.")
    xy = p[..., :2]
    shoulders = np.linalg.norm(xy[:, _SHOULDER_L] - xy[:, _SHOULDER_R], axis=1).mean() + 1e-6
    ears = xy[:, _EAR_L] - xy[:, _EAR_R]
    ear_mid = (xy[:, _EAR_L] + xy[:, _EAR_R]) / 2
    yaw = float(np.mean((xy[:, _NOSE, 0] - ear_mid[:, 0]) / (np.abs(ears[:, 0]) + 1e-6)))
    tilt = float(np.degrees(np.mean(np.arctan2(ears[:, 1], ears[:, 0]))))
    line = xy[:, _SHOULDER_L] - xy[:, _SHOULDER_R]
    shoulder_tilt = float(np.degrees(np.mean(np.arctan2(line[:, 1], line[:, 0]))))
    if len(p) > 1:
        head_motion = float(
            np.linalg.norm(np.diff(xy[:, _NOSE], axis=0), axis=1).mean() / shoulders
        )
        limbs = [_WRIST_L, _WRIST_R, _ELBOW_L, _ELBOW_R]
        seen = (p[:-1, limbs, 2] > 0.5) & (p[1:, limbs, 2] > 0.5)  # guessed joints are noise
        steps = np.linalg.norm(np.diff(xy[:, limbs], axis=0), axis=2)
        hand = float(steps[seen].mean() / shoulders) if seen.any() else None
    else:
        head_motion, hand = 0.0, 0.0
    visible = p[:, [_WRIST_L, _WRIST_R], 2] > 0.5
    above = xy[:, [_WRIST_L, _WRIST_R], 1] < xy[:, [_SHOULDER_L, _SHOULDER_R], 1]
    raised = float((visible & above).any(axis=1).mean())
    return BodyCues(
        len(p),
        yaw,
        tilt,
        head_motion,
        hand,
        raised,
        shoulder_tilt,
        _describe(yaw, tilt, head_motion, hand, raised, shoulder_tilt),
    )


def _describe(yaw, tilt, head_motion, hand, raised, shoulder_tilt) -> str:
    facing = "turned to one side" if abs(yaw) > 0.25 else "facing the camera"
    tilted = f", tilted {abs(tilt):.0f} degrees" if abs(tilt) > 10 else ""
    moving = (
        "moves a lot"
        if head_motion > 0.15
        else "moves a little"
        if head_motion > 0.04
        else "stays still"
    )
    if hand is None:
        gestures = "arms and hands out of view"
    else:
        gestures = (
            "animated hand and arm movement"
            if hand > 0.2
            else "some arm movement"
            if hand > 0.06
            else "little arm movement"
        )
    posture = "shoulders level" if abs(shoulder_tilt) < 8 else "shoulders tilted"
    hands = "; hands raised above the shoulders at times" if raised > 0.25 else ""
    return f"The head is {facing}{tilted} and {moving}; {gestures}; {posture}{hands}."
