"""Face detection, main-subject tracking and cropping, plus 478-point face-mesh landmarks.

Detectors whose weights ship inside PyPI wheels: mediapipe's BlazeFace (default) or OpenCV's Haar
cascade. The main subject is the largest confident face in the first frame that has one; later frames
follow it by box overlap, so a second person walking by does not steal the track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MODELS: dict[tuple, object] = {}  # one detector per process and setting (they are slow to build)


def import_mediapipe():
    """mediapipe, imported only when a model is first needed (the import takes a while)."""
    import mediapipe

    return mediapipe


@dataclass
class FaceTrack:
    """Square face crops (uint8 T x S x S x 3, zeros where absent), boxes (x0, y0, x1, y1) and a mask."""

    crops: np.ndarray
    boxes: np.ndarray
    present: np.ndarray
    scores: np.ndarray

    @property
    def present_crops(self) -> np.ndarray:
        return self.crops[self.present]


def _mediapipe_detector(min_confidence: float):
    key = ("mp_detect", min_confidence)
    if key not in _MODELS:
        mp = import_mediapipe()

        _MODELS[key] = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_confidence
        )
    return _MODELS[key]


def _haar_detector():
    key = ("haar",)
    if key not in _MODELS:
        import cv2

        _MODELS[key] = cv2.CascadeClassifier(
            cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        )
    return _MODELS[key]


def detect_faces(
    frame: np.ndarray, backend: str = "mediapipe", min_confidence: float = 0.5
) -> list[tuple[np.ndarray, float]]:
    """All faces in one RGB frame as (box x0,y0,x1,y1 in pixels, score)."""
    h, w = frame.shape[:2]
    if backend == "mediapipe":
        result = _mediapipe_detector(min_confidence).process(np.ascontiguousarray(frame))
        faces = []
        for detection in result.detections or []:
            box = detection.location_data.relative_bounding_box
            x0, y0 = box.xmin * w, box.ymin * h
            faces.append(
                (np.array([x0, y0, x0 + box.width * w, y0 + box.height * h]), detection.score[0])
            )
        return faces
    if backend == "opencv":
        import cv2

        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        found = _haar_detector().detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(max(24, w // 20), max(24, h // 20))
        )
        return [(np.array([x, y, x + bw, y + bh], dtype=float), 1.0) for x, y, bw, bh in found]
    raise ValueError(f"unknown face detector {backend!r}; use 'mediapipe' or 'opencv'")


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _area(box: np.ndarray) -> float:
    return float((box[2] - box[0]) * (box[3] - box[1]))


def crop_square(frame: np.ndarray, box: np.ndarray, size: int, margin: float = 1.3) -> np.ndarray:
    """A square crop of side margin x the box's longer side, centred on it, padded, resized."""
    import cv2

    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * margin / 2
    x0, y0, x1, y1 = (int(round(v)) for v in (cx - half, cy - half, cx + half, cy + half))
    h, w = frame.shape[:2]
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    crop = frame[y0:y1, x0:x1]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def track_faces(
    frames: np.ndarray,
    size: int = 224,
    backend: str = "mediapipe",
    min_confidence: float = 0.5,
    margin: float = 1.3,
) -> FaceTrack:
    """Detect, follow and crop the main subject's face in each frame (T x H x W x 3 uint8 RGB)."""
    count = len(frames)
    crops = np.zeros((count, size, size, 3), dtype=np.uint8)
    boxes = np.zeros((count, 4), dtype=np.float32)
    present = np.zeros(count, dtype=bool)
    scores = np.zeros(count, dtype=np.float32)
    previous: np.ndarray | None = None
    for index, frame in enumerate(frames):
        faces = detect_faces(frame, backend, min_confidence)
        if not faces:
            continue
        if previous is None:
            box, score = max(faces, key=lambda f: _area(f[0]) * f[1])
        else:
            box, score = max(faces, key=lambda f: (_iou(f[0], previous), _area(f[0])))
            if _iou(box, previous) == 0.0:
                # Lost the subject (cut or large jump): restart the track on the largest face.
                box, score = max(faces, key=lambda f: _area(f[0]) * f[1])
        previous = box
        crops[index] = crop_square(frame, box, size, margin)
        boxes[index], present[index], scores[index] = box, True, score
    return FaceTrack(crops, boxes, present, scores)


def face_landmarks(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """478-point mediapipe face mesh per crop, in crop pixels (T x 478 x 3), and a found mask."""
    key = ("mp_mesh",)
    if key not in _MODELS:
        mp = import_mediapipe()

        _MODELS[key] = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True
        )
    mesh = _MODELS[key]
    points = np.zeros((len(crops), 478, 3), dtype=np.float32)
    found = np.zeros(len(crops), dtype=bool)
    for index, crop in enumerate(crops):
        result = mesh.process(np.ascontiguousarray(crop))
        if not result.multi_face_landmarks:
            continue
        h, w = crop.shape[:2]
        marks = result.multi_face_landmarks[0].landmark
        points[index] = [(p.x * w, p.y * h, p.z * w) for p in marks]
        found[index] = True
    return points, found
