"""노트북의 핵심 결과 기록: 노트북 끝에서 record_result를 한 번 부르면 결과 폴더에 JSON 파일 하나를 씁니다.

결과 폴더는 환경 변수 COURSE_RESULTS, 없으면 저장소의 build/<모드>/results (git이 무시하는 폴더)입니다.
강의 빌드(course_utils.build)가 이 기록을 모아 결과 표(JSON, Markdown)를 만들므로, README와 노트북의
수치는 손으로 옮겨 적지 않고 기록에서 옵니다.
"""
from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "RESULTS_VAR", "METRIC_NAMES", "DATA_KINDS", "results_dir", "device_name", "write_json", "format_metrics",
    "format_duration", "format_data", "record_result", "load_records",
]

RESULTS_VAR = "COURSE_RESULTS"
# 지표 이름(기록의 키)과 표에 쓰는 한국어 이름. 이 밖의 키는 그대로 씁니다.
METRIC_NAMES = {"val_acc": "최고 검증 정확도", "test_acc": "테스트 정확도", "transfer_val_acc": "전이 학습 검증 정확도",
                "map50": "mAP@0.5", "map": "mAP@[.5:.95]", "miou": "mIoU",
                "recall50": "재현율@0.5", "recall70": "재현율@0.7", "heldout_acc": "따로 둔 사진 정확도",
                "book_code_heldout_acc": "교재 코드의 따로 둔 사진 정확도",
                "more_data_heldout_acc": "더 많은 데이터로 학습한 모델의 따로 둔 사진 정확도",
                "recipe_heldout_acc": "400장 레시피(작은 모델, 마지막 에폭)의 따로 둔 사진 정확도"}
DATA_KINDS = {"synthetic": "합성 데이터", "user": "실제 사진", "local": "실제 사진", "downloaded": "실제 사진",
              "none": "데이터 없음"}


def results_dir(mode: str) -> Path | None:
    """기록을 쓸 폴더: COURSE_RESULTS, 저장소 안이면 build/<모드>/results, 둘 다 아니면 None(쓰지 않음)."""
    if os.environ.get(RESULTS_VAR):
        return Path(os.environ[RESULTS_VAR]).expanduser()
    repo = Path(__file__).resolve().parents[1]
    return repo / "build" / mode / "results" if (repo / "notebooks").is_dir() else None


def device_name(device: torch.device) -> str:
    """사람이 읽는 장치 이름: GPU 모델, Apple MPS, 또는 CPU 스레드 수."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU {platform.machine()}, 스레드 {torch.get_num_threads()}"


def _check_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """data 인자를 확인합니다: kind(데이터 출처 종류)와 images(이미지 수)."""
    data = dict(data or {"kind": "none"})
    if data.get("kind") not in DATA_KINDS:
        raise ValueError(f"data['kind']는 {sorted(DATA_KINDS)} 중 하나여야 합니다 (지금: {data.get('kind')!r}). "
                         "find_dogs_vs_cats, find_pets가 돌려준 source.kind를 넘기세요.")
    if "images" in data:
        data["images"] = int(data["images"])
    return data


def write_json(path: Path, obj: Any) -> None:
    """JSON을 임시 파일에 쓴 뒤 바꿔치기합니다 (중간에 멈춰도 반쪽 파일이 남지 않게)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def format_metrics(values: Mapping[str, float]) -> str:
    """지표 사전을 '최고 검증 정확도 0.772, mIoU 0.701'처럼 씁니다."""
    return ", ".join(f"{METRIC_NAMES.get(k, k)} {v:.3f}" for k, v in values.items())


def format_duration(seconds: float) -> str:
    """초를 '1시간 2분', '3분 4초', '35초'로."""
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}시간 {minutes}분" if hours else f"{minutes}분 {sec}초" if minutes else f"{sec}초"


def format_data(data: Mapping[str, Any]) -> str:
    """데이터 설명: '실제 사진 20,000장 (400/92/10)', '합성 데이터 160장'."""
    text = DATA_KINDS.get(data.get("kind", "none"), str(data.get("kind")))
    if "images" in data:
        text += f" {data['images']:,}장"
    return text + (f" ({data['split']})" if data.get("split") else "")


def record_result(env: Any, notebook: str, metrics: Mapping[str, float] | None = None, *,
                  baseline: Mapping[str, float] | None = None, data: Mapping[str, Any] | None = None,
                  quiet: bool = False) -> None:
    """노트북의 핵심 결과를 기록하고 한 줄로 알립니다.

    아무것도 돌려주지 않습니다: 노트북 마지막 셀에서 불러도 한 줄 안내 아래에 기록 사전이 한 번 더 찍히지 않습니다.

    metrics: {'val_acc': 0.71, 'test_acc': 0.8} 같은 핵심 수치 (키 이름은 METRIC_NAMES).
    baseline: 이 결과가 넘어서는 기준, {'교재의 저장된 결과': 0.64} 같은 사전.
    data: {'kind': source.kind, 'images': 이미지 수, 'split': '400/92/10'(쓴 나누기, 있으면)}.
    실행 모드, 장치, torch 버전, setup() 뒤 걸린 시간은 알아서 적습니다.
    """
    record = {
        "notebook": notebook,
        "mode": env.mode,
        "metrics": {k: round(float(v), 4) for k, v in (metrics or {}).items()},
        "baseline": {k: round(float(v), 4) for k, v in (baseline or {}).items()},
        "data": _check_data(data),
        "device": env.device.type,
        "device_name": device_name(env.device),
        "torch": torch.__version__,
        "wall_s": round(time.time() - env.started, 1),
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    folder = results_dir(env.mode)
    if folder is not None:
        write_json(folder / f"{notebook}.json", record)
    if not quiet:
        figures = format_metrics(record["metrics"]) or "수치 없음"
        print(f"결과 기록: {figures} | {format_data(record['data'])}, {record['device_name']}, "
              f"{record['wall_s']:.0f}초")


def load_records(folder: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """결과 폴더의 기록을 {노트북 이름: 기록}으로 읽습니다."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("*.json"))}
