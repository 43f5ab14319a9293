"""합성곱 신경망 실습 강의의 도우미 패키지. 모듈마다 관심사 하나이고, 노트북이 가르친 것은 여기서 가져다 씁니다.

준비와 약속 값
- setup: 노트북 맨 위의 준비(시드, 장치, 한글 글꼴, 빠른/전체 모드, 데이터 폴더, DataLoader 작업자 시드)
- constants: 과정 전체의 약속 값(분할의 무시 레이블 IGNORE_INDEX, ImageNet 평균/표준편차)
- progress: 저장한 노트북에 흔적을 남기지 않는 진행 막대

데이터 (아래에서 위로)
- images: 이미지 파일 하나 읽기와 검사(to_rgb, load_rgb, check_image)
- data: 클래스 폴더 색인, 교재식 시드 나누기(course_split), Dataset과 디코딩 캐시
- coco: COCO 주석 검사(check_coco)와 검출/분할 Dataset(PetsDetection, PetsSegmentation)
- download: 내려받기(체크섬, .part 파일, 안전한 압축 풀기)
- sources: 데이터가 어디서 오는지(준 경로, data/, 내려받기, 합성) - find_dogs_vs_cats, find_pets
- synthetic: 오프라인 합성 데이터(분류 폴더, 검출·분할 COCO)
- transforms: 전처리(교재의 ImageTransform, 검출/분할용 v2 변환)
- loaders: 훈련/검증/테스트 Dataset과 같은 시드면 같은 순서로 섞는 DataLoader(분류 04-08, 분할 13-17)
- augment, gpu_data: GPU에서 배치째 하는 증강, 한 번 디코딩해 장치에 올려 둔 데이터 공급

모델과 학습
- models: 여러 노트북이 쓰는 부품(conv_bn_relu, SmallBackbone, AllBackground)과 400장에 맞춘 작은 분류 모델(small_vgg 등)
- pretrained: 사전 훈련 가중치 불러오기(해시 검사)와 분류기 교체
- train: 학습 루프(train_one_epoch, evaluate, fit, predict), checkpoint: 원자적 저장과 이어서 학습하기
- compare: 학습률 비교 실험(교재의 Adam lr=1e-7)
- recipe: 사진 400장으로 처음부터 잘 배우는 학습 레시피(작은 사진, 강한 증강, AdamW, OneCycle, 레이블 스무딩)와 두 가중치의 따로 둔 정확도
- detection: RoI 풀링과 torchvision 방식 검출기의 학습·평가 루프

지표와 도구
- metrics: 분류 지표(정확도, top-k, 파라미터 수), evaluation: 따로 둔 사진으로 분류기 평가
- segmentation: 분할 지표(혼동 행렬, 픽셀 정확도, IoU, mIoU, 기준선 비교)
- boxes: 바운딩 박스(IoU, NMS, 앵커, 박스 인코딩, 재현율, mAP), proposals: 슬라이딩 윈도우와 선택적 탐색
- atrous: 수용 영역과 합성곱 계산량(MAC)

그림
- viz: 이미지·예측 격자, 박스, 마스크, 학습 곡선
- explore, explore_view: 슬라이더 탐색기(계산과 그림), saliency: 특성 맵, 필터, Grad-CAM

강의 빌드와 명령줄
- execute: 노트북 실행과 출력 검사, build: 강의 빌드(실행본, 결과 표), book: 읽기용 HTML
- record: 노트북의 핵심 결과 기록, prep_times: 준비물의 시간 줄 갱신, workcopy: make lab이 여는 내 노트북 사본
- __main__: ``python -m course_utils`` (데이터 내려받기, 폴더 검사, 평평한 폴더 정리, 상태 보기)
"""
__version__ = "0.1.0"
