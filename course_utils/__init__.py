"""합성곱 신경망 실습 강의의 도우미 패키지.

모듈마다 관심사 하나: setup(준비), data·download(데이터), synthetic(합성 데이터), transforms(변환),
viz(그림), train(학습 루프), metrics(분류 지표), pretrained(사전 학습 가중치), boxes(바운딩 박스),
segmentation(분할 지표).
"""
__version__ = "0.1.0"
