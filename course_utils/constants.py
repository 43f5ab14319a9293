"""과정 전체가 함께 쓰는 약속 값: 분할의 '무시' 레이블, ImageNet 정규화 평균/표준편차, 탐색기 안내 문구."""
from __future__ import annotations

__all__ = ["IGNORE_INDEX", "IMAGENET_MEAN", "IMAGENET_STD", "WIDGET_HINT"]

# 분할 정답에서 손실과 지표에 넣지 않는 픽셀(경계, '모름', 클래스가 겹친 곳)의 값
IGNORE_INDEX = 255

# ImageNet 으로 사전 학습한 모델이 본 RGB 채널별 평균과 표준편차
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

# 슬라이더 탐색기를 그릴 수 없는 곳(읽기용 HTML, 위젯 없는 실행기)에서 위젯 대신 보이는 한 줄.
# 노트북 출력 검사(execute.py)는 이 문구만 의도된 위젯 출력으로 받아들입니다.
WIDGET_HINT = "(JupyterLab에서 슬라이더를 움직여 보세요)"
