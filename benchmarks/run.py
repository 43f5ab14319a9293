"""학습 처리량 벤치마크: 강의 엔진과 교재식 루프를 같은 모델·데이터·배치로 나란히 잽니다.

    python -m benchmarks.run                 # CPU(스레드 2개), GPU가 있으면 GPU도
    python -m benchmarks.run --small         # 작게: 모델 LeNet·ResNet-18, 단계 수 축소
    python -m benchmarks.run --devices cuda --compile resnet18   # GPU만, ResNet-18은 torch.compile도

측정은 설정마다 새 프로세스에서 해서 최대 메모리(CPU는 최대 RSS, GPU는 최대 할당량)가 섞이지 않게 합니다.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks import loops

MODELS = ("lenet", "resnet18", "resnet50")


def _run_one(spec: dict, timeout: float = 600) -> dict:
    """설정 하나를 새 파이썬 프로세스에서 재고 결과 사전을 받습니다."""
    cmd = [sys.executable, "-m", "benchmarks.loops", json.dumps(spec)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"{timeout:.0f}초 시간 초과"}
    if out.returncode != 0:
        return {**spec, "error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "실패"}
    return {**spec, **json.loads(out.stdout.strip().splitlines()[-1])}


def _devices(args: argparse.Namespace) -> list[str]:
    """잴 장치: 요청한 것 중 이 기계에 있는 것만."""
    return [d for d in args.devices if d == "cpu" or torch.cuda.is_available()]


def _loops(device: str, model: str, compile_models: list[str] | None) -> tuple[str, ...]:
    """장치와 모델마다 잴 루프. GPU에서는 GPU 증강(course+gpu)과, 원하면 그 위에 torch.compile도."""
    if device != "cuda":
        return ("textbook", "course")
    compiled = compile_models is not None and (not compile_models or model in compile_models)
    return ("textbook", "course", "course+gpu") + (("course+gpu+compile",) if compiled else ())


def _specs(args: argparse.Namespace, data_root: str) -> list[dict]:
    specs = []
    for device in _devices(args):
        for model in args.models:
            steps = args.steps if device == "cuda" else args.cpu_steps
            batch = args.batch if device == "cuda" else args.cpu_batch
            for loop in _loops(device, model, args.compile):
                specs.append(dict(device=device, model=model, loop=loop, steps=steps, batch=batch,
                                  size=args.size, data=data_root, threads=args.threads))
    return specs


def _table(rows: list[dict]) -> str:
    head = f"{'장치':<6}{'모델':<10}{'루프':<20}{'이미지/초':>10}{'최대 메모리(MB)':>16}{'배율':>8}"
    lines = [head, "-" * len(head)]
    base = {}
    for r in rows:
        key = (r["device"], r["model"])
        ips = r.get("images_per_s")
        if r["loop"] == "textbook" and ips:
            base[key] = ips
        ratio = f"{ips / base[key]:.2f}x" if ips and key in base else "-"
        ips_s = f"{ips:.1f}" if ips else r.get("error", "-")[:30]
        mem = f"{r['peak_mb']:.0f}" if r.get("peak_mb") else "-"
        lines.append(f"{r['device']:<6}{r['model']:<10}{r['loop']:<20}{ips_s:>10}{mem:>16}{ratio:>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--steps", type=int, default=30, help="GPU에서 잴 단계 수")
    p.add_argument("--cpu-steps", type=int, default=8, help="CPU에서 잴 단계 수")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--cpu-batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2, help="CPU 스레드 수 (교실 VM처럼 2)")
    p.add_argument("--compile", nargs="*", choices=MODELS, metavar="MODEL",
                   help="GPU에서 torch.compile도 잽니다 (모델 이름을 주면 그 모델만; 컴파일에 모델마다 수십 초)")
    p.add_argument("--devices", nargs="+", default=["cpu", "cuda"], choices=("cpu", "cuda"),
                   help="잴 장치 (cuda는 GPU가 있을 때만)")
    p.add_argument("--small", action="store_true", help="LeNet과 ResNet-18만, 단계 축소")
    p.add_argument("--pipeline", action="store_true", help="데이터 파이프라인(디코딩·증강) 처리량도 잽니다")
    p.add_argument("--json", type=Path, help="결과를 JSON으로도 저장")
    args = p.parse_args(argv)
    if args.small:
        args.models, args.cpu_steps, args.steps = ["lenet", "resnet18"], 3, 15
    with tempfile.TemporaryDirectory() as tmp:
        sizes = [args.steps * args.batch if d == "cuda" else args.cpu_steps * args.cpu_batch for d in _devices(args)]
        data_root = str(loops.make_bench_images(Path(tmp), n=max(sizes + [args.cpu_batch * 4])))
        rows = []
        for spec in _specs(args, data_root):
            rows.append(_run_one(spec))
            print(f"  {spec['device']} {spec['model']} {spec['loop']}: {rows[-1].get('images_per_s', rows[-1].get('error'))}",
                  flush=True)
        pipe = loops.pipeline_table(Path(data_root), args.size, args.threads) if args.pipeline else ""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "없음"
    print(f"기계: {platform.processor() or platform.machine()}, CPU 스레드 {args.threads}, GPU {gpu}, "
          f"torch {torch.__version__}, 이미지 {args.size}px, 배치 CPU {args.cpu_batch} / GPU {args.batch}")
    print(_table(rows))
    if pipe:
        print()
        print(pipe)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"(벤치마크 전체 {time.time() - t0:.0f}초)")
