"""읽기용 HTML 강의: 빌드 폴더의 실행본을 Jupyter Book(Sphinx)으로 정적 웹 페이지로 만듭니다.

노트북을 다시 실행하지 않습니다. 트랙별 목차(기초, 분류, 검출, 분할), 첫 페이지는 결과 표입니다.
한글은 koreanize-matplotlib에 든 나눔고딕을 웹 글꼴로 넣어, 한글 글꼴이 없는 컴퓨터에서도 보이게 합니다.
수식은 jupyter-server-mathjax에 든 MathJax를 함께 넣어, 인터넷이 없어도 수식으로 보이게 합니다.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["TITLE", "TRACKS", "CONFIG", "CSS", "INTRO", "write_web_font", "copy_mathjax", "toc", "write_source", "render"]

TITLE = "손으로 익히는 합성곱 신경망"
TRACKS = (("기초 (00-02)", 0, 2), ("분류: 개와 고양이 (03-08)", 3, 8), ("검출 (09-12)", 9, 12),
          ("분할 (13-17)", 13, 17))
CONFIG = f"""title: "{TITLE}"
only_build_toc_files: true
execute:
  execute_notebooks: "off"
html:
  use_repository_button: false
sphinx:
  config:
    language: ko
    html_show_copyright: false
    html_css_files: [course.css]
    html_theme_options:
      footer_content_items: []
    nb_merge_streams: true
    html_extra_path: [_mathjax]
    mathjax_path: ../mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full
    mathjax2_config:
      HTML-CSS: {{availableFonts: [], webFont: STIX-Web, imageFont: null, linebreaks: {{automatic: true}}}}
      tex2jax: {{processClass: "tex2jax_process|mathjax_process|math|output_area"}}
      messageStyle: none
"""
CSS = """@font-face {
  font-family: "NanumGothic";
  src: url("NanumGothic.woff") format("woff");
  font-display: swap;
  /* 한글 자모, 한글 음절, CJK 문장 부호만: 나눔고딕의 역슬래시는 ₩ 모양이라 라틴 글자는 시스템 글꼴로 */
  unicode-range: U+1100-11FF, U+3000-303F, U+3130-318F, U+A960-A97F, U+AC00-D7FF, U+FF00-FFEF;
}
table.table th, table.table td:last-child { white-space: nowrap; }
html:root {
  --pst-font-family-base: "NanumGothic", system-ui, sans-serif;
  --pst-font-family-heading: "NanumGothic", system-ui, sans-serif;
  --pst-font-family-monospace: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, "NanumGothic", monospace;
}
"""
INTRO = """# {title}

LeNet-5에서 DeepLabv3+까지, 합성곱 신경망을 PyTorch로 직접 만들고 학습해 보는 한국어 실습 노트북입니다.
이 사이트의 노트북은 모두 강의 빌드가 위에서 아래로 실행한 그대로의 출력을 보여 줍니다.
왼쪽 목차에서 트랙(기초, 분류, 검출, 분할)별로 골라 읽으세요.

## 결과

{table}
"""


def write_web_font(target: Path) -> Path:
    """koreanize-matplotlib에 든 나눔고딕을 웹 글꼴(WOFF)로 씁니다.

    원본 TTF에는 빈 TSI 표(글꼴 힌팅 도구의 작업 자료)가 있어 브라우저가 글꼴을 거부하므로 그 표를 뺍니다.
    """
    import koreanize_matplotlib
    from fontTools.ttLib import TTFont  # matplotlib이 쓰는 글꼴 라이브러리

    font = TTFont(Path(koreanize_matplotlib.__file__).parent / "fonts" / "NanumGothic.ttf")
    for tag in [t for t in font.keys() if t.startswith("TSI")]:
        del font[tag]
    font.flavor = "woff"
    font.save(target)
    return target


def copy_mathjax(out: Path) -> Path:
    """jupyter-server-mathjax에 든 MathJax 2(STIX 웹 글꼴 포함)를 out/_mathjax/mathjax에 복사합니다 (이미 있으면 그대로).

    _static에 두지 않습니다: Jupyter Book은 _static의 .js를 모든 페이지에 넣기 때문입니다. HTML에서는 mathjax/에 놓입니다.
    """
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SystemExit("jupyter-server-mathjax가 없습니다. 읽기용 HTML에는 `pip install -e '.[book]'`가 필요합니다 "
                         "(make book과 make test는 알아서 설치합니다).") from None
    target = out / "_mathjax" / "mathjax"
    if not (target / "MathJax.js").exists():
        shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", target, dirs_exist_ok=True)
    return target


def toc(notebooks: list[str]) -> str:
    """_toc.yml: 트랙마다 한 부(part), 노트북마다 한 장(chapter)."""
    lines = ["format: jb-book", "root: index", "parts:"]
    for caption, first, last in TRACKS:
        chapters = [n for n in notebooks if first <= int(n[:2]) <= last]
        if chapters:
            lines += [f'  - caption: "{caption}"', "    chapters:"]
            lines += [f"      - file: notebooks/{n}" for n in chapters]
    return "\n".join(lines) + "\n"


def write_source(out: Path, table: str) -> list[str]:
    """out(빌드 폴더)에 책의 설정, 목차, 첫 페이지, 글꼴과 CSS를 씁니다. 담은 노트북 이름을 돌려줍니다."""
    notebooks = sorted(p.stem for p in (out / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise SystemExit(f"{out / 'notebooks'}에 실행본이 없습니다. 먼저 노트북을 실행하세요 (make book).")
    (out / "_config.yml").write_text(CONFIG, encoding="utf-8")
    (out / "_toc.yml").write_text(toc(notebooks), encoding="utf-8")
    (out / "index.md").write_text(INTRO.format(title=TITLE, table=table), encoding="utf-8")
    static = out / "_static"
    static.mkdir(exist_ok=True)
    (static / "course.css").write_text(CSS, encoding="utf-8")
    if not (static / "NanumGothic.woff").exists():
        write_web_font(static / "NanumGothic.woff")
    copy_mathjax(out)
    return notebooks


def render(out: Path, table: str) -> Path:
    """실행본으로 HTML을 만들고 첫 페이지 경로를 돌려줍니다. 실패하면 Sphinx 로그를 보여 주고 멈춥니다."""
    notebooks = write_source(out, table)
    cli = Path(sys.executable).with_name("jupyter-book")
    if not cli.exists():
        raise SystemExit("jupyter-book이 없습니다. 읽기용 HTML에는 `pip install -e '.[book]'`가 필요합니다 "
                         "(make book과 make test는 알아서 설치합니다).")
    log = out / "book.log"
    with log.open("w", encoding="utf-8") as f:
        done = subprocess.run([str(cli), "build", "--all", "-q", str(out)], stdout=f, stderr=subprocess.STDOUT)
    html = out / "_build" / "html"
    missing = [n for n in notebooks if not (html / "notebooks" / f"{n}.html").exists()]
    if done.returncode or missing:
        tail = "\n".join(log.read_text(encoding="utf-8").splitlines()[-20:])
        raise SystemExit(f"읽기용 HTML을 만들지 못했습니다 (빠진 페이지: {missing or '없음'}). 로그 {log}:\n{tail}")
    return html / "index.html"
