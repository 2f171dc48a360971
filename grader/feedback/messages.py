"""The message catalog: every failure kind, check title and label in English and Korean.

Trusted side. Checks never build sentences; renderers look them up here and
fill them from ``Failure.detail``. A test checks both languages are complete.
"""

from __future__ import annotations

import locale
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.errors import GraderError

LANGUAGES = ("en", "ko")

FAILURES: dict[str, dict[str, str]] = {
    "missing-file": {
        "en": "The file {file} does not exist. Create it from the stub in exercises/.",
        "ko": "{file} 파일이 없습니다. exercises/ 폴더의 스텁 파일에서 시작하세요.",
    },
    "unsafe-file": {
        "en": "{file} cannot be graded: {reason}.",
        "ko": "{file} 파일은 채점할 수 없습니다: {reason}.",
    },
    "not-a-notebook": {
        "en": "{file} is not a notebook Jupyter can open: {reason}.",
        "ko": "{file}은(는) Jupyter가 열 수 있는 노트북이 아닙니다: {reason}.",
    },
    "syntax-error": {
        "en": "{file}, {at}: {type}: {message}. Fix the syntax, then grade again.",
        "ko": "{file} {at}: {type}: {message}. 문법 오류를 고친 뒤 다시 채점하세요.",
    },
    "import-error": {
        "en": "{file} could not be imported: {type} at {at}: {message}.",
        "ko": "{file} 파일을 import할 수 없습니다: {at}에서 {type}: {message}.",
    },
    "missing-function": {
        "en": "Your file defines no function named {function}. Keep the stub's name and signature.",
        "ko": "파일에 {function} 함수가 없습니다. 스텁의 함수 이름과 시그니처를 그대로 유지하세요.",
    },
    "not-implemented": {
        "en": "Not implemented yet: the function still raises NotImplementedError.",
        "ko": "아직 구현되지 않았습니다: 함수가 여전히 NotImplementedError를 발생시킵니다.",
    },
    "raised": {
        "en": "Your function raised {type} ({at}): {message}",
        "ko": "함수에서 {type} 예외가 발생했습니다 ({at}): {message}",
    },
    "timeout": {
        "en": "Time limit: your code did not answer in time. Look for an endless loop.",
        "ko": "시간 제한 초과: 제한 시간 안에 답하지 않았습니다. 끝나지 않는 반복문이 있는지 확인하세요.",
    },
    "exercise-time": {
        "en": "Time limit for the whole exercise: its checks did not finish in the {seconds} s one exercise "
              "gets. No call took too long alone, but together they did: make your function faster (no "
              "sleep, no prints in it, no Python loop over elements where one tensor operation does it).",
        "ko": "과제 전체 시간 제한 초과: 한 과제에 주어진 {seconds}초 안에 검사를 마치지 못했습니다. "
              "호출 하나하나는 제한 안에 답했지만 모두 합쳐 너무 오래 걸렸습니다. 함수를 더 빠르게 "
              "만드세요 (sleep과 print 없이, 원소마다 도는 Python 반복문 대신 텐서 연산 하나로).",
    },
    "crashed": {
        "en": "Your code's process ended during the call ({detail}). Do not call exit() or os._exit().",
        "ko": "호출 도중 프로세스가 종료되었습니다 ({detail}). exit()나 os._exit()를 호출하지 마세요.",
    },
    "memory-limit": {
        "en": "Memory limit: your code tried to use more memory than allowed.",
        "ko": "메모리 제한 초과: 허용된 것보다 많은 메모리를 사용하려 했습니다.",
    },
    "disk-limit": {
        "en": "Disk limit: your code wrote more than {limit_mb} MiB to files. Write no files.",
        "ko": "디스크 제한 초과: 파일에 {limit_mb} MiB 넘게 썼습니다. 파일을 쓰지 마세요.",
    },
    "output-limit": {
        "en": "Output limit: your code printed too much ({detail}). Remove debugging prints.",
        "ko": "출력 제한 초과: 너무 많이 출력했습니다 ({detail}). 디버깅용 print를 지우세요.",
    },
    "malformed": {
        "en": "Your code's process sent something that is not a valid answer ({detail}).",
        "ko": "프로세스가 올바르지 않은 응답을 보냈습니다 ({detail}).",
    },
    "gave-up": {
        "en": ("Not run: your code's process failed too often in earlier checks, "
               "or was stopped at the time or memory limit twice in a row."),
        "ko": ("실행하지 않음: 앞선 검사에서 프로세스가 너무 자주 실패했거나, "
               "두 번 연달아 시간 또는 메모리 제한에 걸려 중단되었습니다."),
    },
    "not-a-tensor": {
        "en": "{where} should be a torch.Tensor, but it is a {type}.{tensor_rule}",
        "ko": "{where}은(는) torch.Tensor여야 하지만 {type}입니다.{tensor_rule}",
    },
    "tensor-subclass": {
        "en": "{where} is a {type}, a subclass of torch.Tensor. Return a plain torch.Tensor.",
        "ko": "{where}은(는) torch.Tensor의 하위 클래스 {type}입니다. 일반 torch.Tensor를 반환하세요.",
    },
    "wrong-structure": {
        "en": "{where}: expected {expected}, got {obtained}.",
        "ko": "{where}: {expected}가 와야 하는데 {obtained}가 왔습니다.",
    },
    "wrong-dtype": {
        "en": "{where} has dtype {obtained}, expected {expected}.{dtype_rule}",
        "ko": "{where}의 dtype이 {obtained}입니다. {expected}이어야 합니다.{dtype_rule}",
    },
    "wrong-shape": {
        "en": "{where} has shape {obtained}, expected {expected}.",
        "ko": "{where}의 shape이 {obtained}입니다. {expected}이어야 합니다.",
    },
    "wrong-device": {
        "en": "{where} is on device {obtained}, expected {expected}.",
        "ko": "{where}이(가) {obtained} 장치에 있습니다. {expected} 장치에 있어야 합니다.",
    },
    "wrong-layout": {
        "en": "{where} is a {layout} tensor; return an ordinary dense tensor (.to_dense(), or build it "
              "without to_sparse() or torch.nested).",
        "ko": "{where}이(가) {layout} 텐서입니다. 일반(밀집) 텐서를 반환하세요 (.to_dense()를 쓰거나, "
              "to_sparse()나 torch.nested 없이 만드세요).",
    },
    "wrong-value": {
        "en": "{where} differs from the expected values.",
        "ko": "{where}의 값이 정답과 다릅니다.",
    },
    "non-finite": {
        "en": "{where} contains inf or NaN where the expected value is different. "
              "Look for exp() of large numbers, 0/0, inf - inf, 0 * inf or log(0).",
        "ko": "{where}에 기대값과 다른 inf 또는 NaN이 있습니다. "
              "큰 수의 exp(), 0/0, inf - inf, 0 * inf, log(0)을 확인하세요.",
    },
    "out-of-range": {
        "en": "The output breaks a rule: {rule_en}. {found}",
        "ko": "출력이 규칙을 어깁니다: {rule_ko}. {found}",
    },
    "modified-input": {
        "en": "Your function changed its input {argument} in place. "
              "Use out-of-place operations (x = x + y, not x += y or x.add_(y)).",
        "ko": "함수가 입력 {argument}을(를) 제자리(in-place)에서 바꿨습니다. "
              "x += y나 x.add_(y) 대신 x = x + y처럼 새 텐서를 만드세요.",
    },
    "not-differentiable": {
        "en": "Autograd cannot differentiate your output with respect to the inputs. "
              "Avoid .detach(), .numpy(), .item(), torch.no_grad() and rebuilding tensors from lists.",
        "ko": "autograd가 출력을 입력에 대해 미분할 수 없습니다. "
              ".detach(), .numpy(), .item(), torch.no_grad(), 리스트에서 텐서를 다시 만드는 것을 피하세요.",
    },
    "wrong-gradient": {
        "en": "The gradient with respect to {argument} differs from the reference's.",
        "ko": "{argument}에 대한 기울기(gradient)가 정답과 다릅니다.",
    },
    "no-value-error": {
        "en": "Expected ValueError for invalid input ({case}), but {raised}.",
        "ko": "잘못된 입력({case})에는 ValueError가 발생해야 하지만 {raised}.",
    },
    "forbidden-call": {
        "en": "Uses a built-in this exercise asks you to write yourself: {calls}.",
        "ko": "이 과제에서 직접 구현해야 하는 내장 함수를 사용했습니다: {calls}.",
    },
    "inconsistent": {
        "en": "Your function gave different results for the same input on different calls.",
        "ko": "같은 입력에 대해 호출할 때마다 다른 결과를 냈습니다.",
    },
    "grader-error": {
        "en": "The grader could not run this check ({type}: {message}). Please tell your instructor.",
        "ko": "채점기가 이 검사를 실행하지 못했습니다 ({type}: {message}). 담당 교수자에게 알려주세요.",
    },
}

TITLES: dict[str, dict[str, str]] = {
    "matches-reference": {"en": "matches the reference", "ko": "정답과 일치"},
    "keeps-inputs": {"en": "leaves its inputs unchanged", "ko": "입력을 바꾸지 않음"},
    "gradients-match": {"en": "gradients match the reference", "ko": "기울기가 정답과 일치"},
    "raises-value-error": {"en": "raises ValueError", "ko": "ValueError 발생"},
    "holds": {"en": "obeys a rule", "ko": "규칙을 지킴"},
    "no-forbidden-calls": {"en": "uses no forbidden built-in", "ko": "금지된 내장 함수를 쓰지 않음"},
}

LEFT_OUT: dict[str, dict[str, str]] = {
    "magic": {"en": "an IPython magic", "ko": "IPython 매직 명령"},
    "shell": {"en": "a shell command", "ko": "셸 명령"},
    "help": {"en": "a help request with ?", "ko": "? 도움말 요청"},
    "unparsable": {"en": "the cell is not valid Python", "ko": "셀이 올바른 Python 코드가 아님"},
}
"""Why a notebook's line was not graded (``grader.notebook``)."""

LABELS: dict[str, dict[str, str]] = {
    "score": {"en": "Score", "ko": "점수"},
    "at-line": {"en": "line {line}", "ko": "{line}번째 줄"},
    "at-cell": {"en": "cell {cell}, line {line}", "ko": "{cell}번 셀 {line}번째 줄"},
    "left-out": {"en": "cell {cell}, line {line}: left out, never run when graded ({reason})",
                 "ko": "{cell}번 셀 {line}번째 줄: 채점에서 제외되어 실행되지 않습니다 ({reason})"},
    "adjusted": {"en": "adjusted by your instructor to {points} points (the grader gave {graded}): {reason}",
                 "ko": "강사가 {points}점으로 조정했습니다 (채점기 점수: {graded}). 이유: {reason}"},
    "sandbox": {"en": "sandbox", "ko": "샌드박스"},
    "values-first": {"en": "counts once the values match", "ko": "값이 맞으면 점수 인정"},
    "forbidden-call": {"en": "withheld: a forbidden built-in", "ko": "보류: 금지된 내장 함수 사용"},
    "same-cause": {"en": "failed for the same cause as {check}", "ko": "{check}과(와) 같은 원인으로 실패"},
    "same-cause-short": {"en": "same cause", "ko": "같은 원인"},
    "likely-cause": {"en": "Likely cause", "ko": "추정 원인"},
    "gradients": {"en": "expected {argument}.grad:\n{expected}\nyour {argument}.grad:\n{obtained}",
                  "ko": "기대한 {argument}.grad:\n{expected}\n여러분의 {argument}.grad:\n{obtained}"},
    "check": {"en": "Check", "ko": "검사"},
    "points": {"en": "Points", "ko": "배점"},
    "exercise": {"en": "Exercise", "ko": "연습 문제"},
    "state": {"en": "State", "ko": "상태"},
    "not-started": {"en": "not started", "ko": "시작 전"},
    "failing": {"en": "failing", "ko": "실패 중"},
    "passing": {"en": "passing", "ko": "통과"},
    "next": {"en": "Next: grade {exercise}  ({title})", "ko": "다음 할 일: grade {exercise}  ({title})"},
    "all-done": {"en": "Every exercise passes. Well done!",
                 "ko": "모든 연습 문제를 통과했습니다. 잘했습니다!"},
    "total": {"en": "Total", "ko": "합계"},
    "hint": {"en": "Hint {level} of {count} for {exercise}", "ko": "{exercise} 힌트 {level}/{count}"},
    "more-hints": {"en": "Another hint: {command}", "ko": "다음 힌트: {command}"},
    "last-hint": {"en": "That was the last hint: the failing checks' feedback shows the rest.",
                  "ko": "마지막 힌트였습니다. 나머지는 실패한 검사의 피드백을 보세요."},
    "watching": {"en": "Watching {files}: save to grade again, Ctrl-C to stop.",
                 "ko": "{files}을(를) 지켜보는 중: 저장하면 다시 채점합니다. 멈추려면 Ctrl-C."},
    "every-file": {"en": "all {count} exercise files", "ko": "연습 문제 파일 {count}개 전부"},
    "stopped-watching": {"en": "Stopped watching.", "ko": "지켜보기를 멈췄습니다."},
    "no-hints": {"en": "This exercise has no hints.", "ko": "이 연습 문제에는 힌트가 없습니다."},
    "examples": {"en": "Inputs tried", "ko": "시도한 입력 수"},
    "passed": {"en": "passed", "ko": "통과"},
    "failed": {"en": "failed", "ko": "실패"},
    "error": {"en": "error", "ko": "오류"},
    "not-run": {"en": "not run", "ko": "실행 안 됨"},
    "input": {"en": "Smallest failing input", "ko": "실패하는 가장 작은 입력"},
    "input-bank": {"en": "Smallest failing input of the bank (not shrunk)",
                   "ko": "뱅크에서 실패하는 가장 작은 입력 (축소하지 않음)"},
    "input-replay": {"en": "The input the token holds", "ko": "토큰에 담긴 입력"},
    "mistake": {"en": "This looks like a known mistake", "ko": "흔한 실수와 같은 결과입니다"},
    "mistakes-together": {"en": "two slips at once", "ko": "두 가지 실수가 함께 있습니다"},
    "output": {"en": "Your code printed", "ko": "코드가 출력한 내용"},
    "all-passed": {"en": "All checks passed.", "ko": "모든 검사를 통과했습니다."},
    "some-failed": {"en": "{failed} of {total} checks failed.", "ko": "검사 {total}개 중 {failed}개 실패."},
    "not-run-because": {"en": "No check could run:", "ko": "검사를 실행할 수 없었습니다:"},
    "returned-normally": {"en": "it returned normally", "ko": "정상적으로 값을 반환했습니다"},
    "raised-instead": {"en": "it raised {raised}", "ko": "{raised}이(가) 발생했습니다"},
    "mismatch": {
        "en": "{mismatched} / {total} elements differ; max absolute difference {max_abs}, "
              "max relative {max_rel} (tolerance atol={atol}, rtol={rtol}).\n"
              "Worst at index {index}: got {obtained}, expected {expected}.",
        "ko": "원소 {total}개 중 {mismatched}개가 다릅니다. 최대 절대 오차 {max_abs}, "
              "최대 상대 오차 {max_rel} (허용 오차 atol={atol}, rtol={rtol}).\n"
              "가장 큰 차이는 인덱스 {index}: 결과 {obtained}, 기대값 {expected}.",
    },
    "first-non-finite": {
        "en": "The first non-finite value is at index {index}: got {obtained}, expected {expected}.",
        "ko": "첫 번째 유한하지 않은 값은 인덱스 {index}에 있습니다: 결과 {obtained}, 기대값 {expected}.",
    },
    "output-word": {"en": "the output", "ko": "출력"},
    "dtype-float": {"en": " Outputs keep the input's dtype.",
                    "ko": " 출력은 입력의 dtype을 유지해야 합니다."},
    "dtype-mask": {"en": " This output is a mask: torch.bool, as a comparison gives it (.long(), .int() or "
                         ".float() turn it into numbers).",
                   "ko": " 이 출력은 마스크이며, 비교 연산의 결과가 바로 이 dtype입니다 "
                         "(.long(), .int(), .float()는 숫자로 바꿉니다)."},
    "tensor-from-numpy": {"en": " Compute with torch operations from start to end: NumPy cuts the gradient, "
                                "and torch.from_numpy(...) at the end does not bring it back.",
                          "ko": " 처음부터 끝까지 torch 연산으로 계산하세요: NumPy를 거치면 gradient가 "
                                "끊기고, 마지막에 torch.from_numpy(...)를 해도 돌아오지 않습니다."},
    "tensor-from-list": {"en": " Return one tensor: torch.stack(...) joins a list of tensors, "
                               "torch.tensor(...) a list of numbers (.tolist() gives a list).",
                         "ko": " 텐서 하나를 반환하세요: 텐서의 리스트는 torch.stack(...)으로, "
                               "숫자의 리스트는 torch.tensor(...)로 합칩니다 (.tolist()는 리스트를 줍니다)."},
    "tensor-from-number": {"en": " .item(), float(...) and int(...) give a Python number; keep the tensor.",
                           "ko": " .item(), float(...), int(...)는 Python 숫자를 줍니다. "
                                 "텐서를 그대로 두세요."},
    "replay": {"en": "Run it again", "ko": "다시 실행"},
}


SANDBOX: dict[str, dict[str, str]] = {
    "tier": {"en": "sandbox: {tier}", "ko": "샌드박스: {tier}"},
    "tier-because": {"en": "sandbox: {tier} ({why})", "ko": "샌드박스: {tier} ({why})"},
    "unconfined": {"en": "warning: student code runs here with resource limits only, not confined "
                         "(see grade doctor)",
                   "ko": "경고: 여기서는 학생 코드가 격리되지 않고 자원 제한만 받은 채 실행됩니다 "
                         "(grade doctor 참고)"},
    # why a stronger tier is not in force (``confine.Tier.missing``)
    "no-namespaces": {"en": "bwrap cannot create namespaces here",
                      "ko": "여기서는 bwrap이 네임스페이스를 만들 수 없음"},
    "no-bwrap": {"en": "bwrap is not installed", "ko": "bwrap이 설치되어 있지 않음"},
    "capped": {"en": "capped by GRADER_SANDBOX={detail}", "ko": "GRADER_SANDBOX={detail} 설정으로 제한됨"},
    "no-landlock": {"en": "the kernel has no Landlock", "ko": "커널에 Landlock이 없음"},
    "not-root": {"en": "not root", "ko": "root 권한이 아님"},
    "unreadable": {"en": "{detail} is not readable by uid {uid}",
                   "ko": "uid {uid} 사용자가 {detail}을(를) 읽을 수 없음"},
    "no-seccomp": {"en": "seccomp is unavailable", "ko": "seccomp를 쓸 수 없음"},
    # grade doctor's rows
    "bwrap": {"en": "namespaces and read-only filesystem (bubblewrap): {answer}",
              "ko": "네임스페이스와 읽기 전용 파일 시스템 (bubblewrap): {answer}"},
    "landlock": {"en": "filesystem and TCP fenced by Landlock: {answer}",
                 "ko": "Landlock으로 파일 시스템과 TCP 차단: {answer}"},
    "uid": {"en": "runs as an unprivileged user, course secrets sealed: {answer}",
            "ko": "권한 없는 사용자로 실행, 과목의 비공개 파일 봉인: {answer}"},
    "official": {"en": "fenced enough for an official grade: {answer}",
                 "ko": "공식 성적을 낼 만큼 격리됨: {answer}"},
    "seccomp": {"en": "seccomp: no fork, exec, sockets, ptrace, mounts: {answer}",
                "ko": "seccomp: fork(), exec(), 소켓, ptrace(), 마운트 금지: {answer}"},
    "limits": {"en": "limits: memory, CPU, file size, open files, wall clock, output: {answer}",
               "ko": "제한: 메모리, CPU 시간, 파일 크기, 열린 파일 수, 실제 시간, 출력량: {answer}"},
    "yes": {"en": "yes", "ko": "예"},
    "no": {"en": "no", "ko": "아니요"},
    "no-unless-allowed": {"en": "no (--allow-unsandboxed)", "ko": "아니요 (--allow-unsandboxed 필요)"},
}
"""Which confinement student code runs in (``sandbox.confine.probe``): the CLI's note and grade doctor."""


def default_language() -> str:
    """Korean when the locale says so (LANG=ko_KR.UTF-8 ...), else English."""
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(key, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    code = (locale.getlocale()[0] or "").lower()
    return "ko" if code.startswith("ko") else "en"


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


WHERE: dict[str, dict[str, str]] = {
    "output": {"en": "the output{index}", "ko": "출력{index}"},
    "gradient": {"en": "the gradient of {argument}{index}", "ko": "{argument}{index}의 기울기"},
}
"""What a failure is about (``properties.where``)."""

STRUCTURE: dict[str, dict[str, str]] = {
    "count": {"en": "{n} values", "ko": "값 {n}개"},
    "type": {"en": "a {type}", "ko": "{type} 객체"},
}

SUBJECTS: dict[str, dict[str, str]] = {
    "reversed": {"en": "output {output_index} for the reversed input",
                 "ko": "뒤집은 입력에 대한 출력 {output_index}"},
    "changed": {"en": "the output on the changed input", "ko": "바뀐 입력에 대한 출력"},
    "earlier-step": {"en": "an earlier step's output", "ko": "앞선 시점의 출력"},
}
"""What a rule across two calls compared (``relations.close``)."""

FINDINGS: dict[str, dict[str, str]] = {
    "shapes-differ": {"en": "{subject}: shapes {a} and {b} differ",
                      "ko": "{subject}: shape {a}와 {b}가 다릅니다"},
    "differs-at": {"en": "{subject}: at index {index}, {got} instead of {want}",
                   "ko": "{subject}: 인덱스 {index}에서 {want} 대신 {got}입니다"},
    "outside": {"en": "{count} value(s) outside [{low}, {high}], e.g. {example}",
                "ko": "값 {count}개가 [{low}, {high}] 밖에 있습니다 (예: {example})"},
    "slice-sum": {"en": "a slice sums to {total} (off by {off})",
                  "ko": "한 슬라이스의 합이 {total}입니다 ({off}만큼 어긋남)"},
    "padded-weight": {"en": "a padded key got weight {weight}",
                      "ko": "패딩된 키가 가중치 {weight}를 받았습니다"},
}
"""What a broken rule found, as the rule helpers report it (``checks.relations``)."""


PATTERNS: dict[str, dict[str, str]] = {
    "precision": {
        "en": "The inputs are float64 but the error is at float32's precision: some constant or "
              "intermediate is float32 (torch.tensor(d_k) with no dtype, torch.FloatTensor, .float()). "
              "Keep the inputs' dtype.",
        "ko": "입력은 float64인데 오차가 float32 정밀도 수준입니다: 어떤 상수나 중간값이 float32입니다 "
              "(dtype 없는 torch.tensor(d_k), torch.FloatTensor, .float()). 입력의 dtype을 유지하세요.",
    },
    "assert": {"en": "An assert checked the input; the spec asks for raise ValueError(...) (an assert raises "
                     "AssertionError, and python -O skips it).",
               "ko": "assert로 입력을 검사했습니다. 명세는 raise ValueError(...)를 요구합니다 "
                     "(assert는 AssertionError를 내고, python -O에서는 건너뜁니다)."},
    "fixed-rank": {"en": "Your code works when {argument} has {rank} dimensions and fails with any other "
                         "number: it is written for {rank}-D inputs only. Index from the end (dim=-1, "
                         "transpose(-2, -1), x @ y) so leading batch dimensions pass through.",
                   "ko": "{argument}가 {rank}차원일 때만 동작하고 다른 차원 수에서는 실패합니다: "
                         "{rank}차원 입력 전용으로 작성되었습니다. 뒤에서부터 인덱싱하세요"
                         "(dim=-1, transpose(-2, -1), x @ y). "
                         "그래야 앞쪽 배치 차원이 그대로 통과합니다."},
    "sign": {"en": "Your output is the reference's with its sign flipped.",
             "ko": "출력의 부호가 정답과 반대입니다."},
    "scale": {"en": "Your output is the reference's times {factor}: a scale factor is missing or extra.",
              "ko": "출력이 정답에 {factor}를 곱한 값입니다: 스케일 인자가 빠졌거나 더해졌습니다."},
    "layout": {"en": "Your output is the reference's with its axes in the order {order}: a transpose, a "
                     "reshape in the wrong order, or torch.stack(...) / torch.cat(...) along another dim.",
               "ko": "출력이 정답의 축을 {order} 순서로 바꾼 것입니다: transpose나 reshape 순서, "
                     "또는 torch.stack(...) / torch.cat(...)의 dim을 확인하세요."},
    "extra-axis": {"en": "Your output has the reference's values with an extra axis of size 1: an unsqueeze, "
                         "[None] or keepdim=True left in, or a mask built as (1, L, L) for broadcasting. "
                         "Return exactly the shape the docstring gives.",
                   "ko": "출력 값은 정답과 같지만 크기 1인 축이 하나 더 있습니다: unsqueeze, [None], "
                         "keepdim=True가 남았거나, 브로드캐스팅용 (1, L, L) 마스크를 만들었습니다. "
                         "함수 설명에 적힌 shape 그대로 반환하세요."},
    "missing-axis": {"en": "Your output has the reference's values, but an axis of size 1 is missing: a bare "
                           "squeeze() that also removed a batch or a length of 1, or keepdim=True left out. "
                           "Squeeze only the dim you mean (squeeze(-1)).",
                     "ko": "출력 값은 정답과 같지만 크기 1인 축이 빠졌습니다: squeeze()가 크기 1인 배치나 "
                           "길이 축까지 없앴거나, keepdim=True를 빠뜨렸습니다. 없앨 축만 지정하세요"
                           "(squeeze(-1))."},
    "as-if": {"en": "Your output is what the reference gives when {argument} is all {value}s: a term with "
                    "{argument} is left out or ignored.",
              "ko": "출력이 {argument}가 모두 {value}일 때의 정답과 같습니다: {argument}가 들어간 항이 "
                    "빠졌거나 무시되었습니다."},
    "as-transposed": {"en": "Your output is what the reference gives with {argument} transposed: it was "
                            "multiplied as it is, but in this course a weight of shape (out, in) acts as "
                            "x @ W.T. Write x @ {argument}.T (or torch.nn.functional.linear(x, {argument})).",
                      "ko": "출력이 {argument}를 전치했을 때의 정답과 같습니다: "
                            "{argument}를 그대로 곱했지만, 이 과목에서 (출력, 입력) shape의 가중치는 "
                            "x @ W.T로 작용합니다. "
                            "x @ {argument}.T (또는 torch.nn.functional.linear(x, {argument}))로 쓰세요."},
    "lost-infinity": {"en": "Where the answer is {value} (the log of a zero probability, say), yours is "
                            "a finite number, and everywhere else it is right or off by a hair: a clamp or "
                            "an added epsilon "
                            "hides the infinity (p.add(1e-9).log(), p.clamp_min(1e-12).log(), or "
                            "torch.distributions, which clamps). The spec asks for it exactly: "
                            "log(0) is -inf.",
                      "ko": "정답이 {value}인 곳(예: 확률 0의 로그)에서 여러분의 출력은 유한한 값이고, "
                            "나머지는 맞거나 아주 조금만 다릅니다: clamp(...)나 더한 작은 값이 "
                            "무한대를 가립니다(p.add(1e-9).log(), p.clamp_min(1e-12).log(), "
                            "또는 내부에서 clamp(...)하는 "
                            "torch.distributions). 명세는 정확한 값을 요구합니다: log(0)은 -inf입니다."},
    "random": {"en": "With only torch's random seed changed, the same input gave another output: something "
                     "in your function is random, and no comparison can pass. Dropout is the usual cause: "
                     "F.dropout(x, p) drops values unless training=False, and an nn.Dropout module does "
                     "until .eval() is called; torch.rand(...) or torch.randn(...) inside the function "
                     "too. This function runs without dropout, as in evaluation.",
               "ko": "torch의 난수 시드만 바꿨는데 같은 입력에서 다른 출력이 나왔습니다: "
                     "함수 안에 무작위성이 있어 어떤 비교도 통과할 수 없습니다. "
                     "흔한 원인은 드롭아웃입니다: F.dropout(x, p)는 "
                     "training=False가 아니면 값을 떨어뜨리고, nn.Dropout 모듈은 .eval()을 부르기 "
                     "전까지 그렇습니다. 함수 안의 torch.rand(...)나 torch.randn(...)도 마찬가지입니다. "
                     "이 함수는 평가 모드처럼 드롭아웃 없이 동작해야 합니다."},
    "untransposed": {"en": "A matrix product refused its shapes: {argument} was multiplied as it is. In this "
                           "course a weight of shape (out, in) acts as x @ W.T, so multiply by its "
                           "transpose: x @ {argument}.T (or torch.nn.functional.linear(x, {argument})).",
                     "ko": "행렬 곱에서 shape이 맞지 않습니다: {argument}를 그대로 곱했습니다. 이 과목에서 "
                           "(출력, 입력) shape의 가중치는 x @ W.T로 작용하므로, 전치해서 곱하세요: "
                           "x @ {argument}.T (또는 torch.nn.functional.linear(x, {argument}))."},
    "default-dtype": {"en": "float32 and float64 met: the inputs here are float64, and a tensor made "
                            "without dtype= is float32 (torch.zeros(...), torch.ones(...), torch.eye(n) and "
                            "torch.tensor(...) of Python numbers default to it). Make new tensors like the "
                            "inputs: torch.zeros(shape, dtype=x.dtype, device=x.device), or "
                            "torch.zeros_like(x).",
                      "ko": "float32와 float64가 섞였습니다: 여기서 입력은 float64인데, "
                            "dtype= 없이 만든 텐서는 float32입니다(torch.zeros(...), torch.ones(...), "
                            "torch.eye(n), 파이썬 숫자로 만든 torch.tensor(...)의 기본값). "
                            "새 텐서는 입력과 같게 만드세요: "
                            "torch.zeros(shape, dtype=x.dtype, device=x.device) 또는 torch.zeros_like(x)."},
    "default-dtype-output": {
        "en": "float32 where float64 is due: the output was made as a new tensor without dtype= and filled "
              "in (torch.zeros(...), torch.empty(...) and torch.tensor(...) of Python numbers are float32), "
              "or turned with .float(). Make it like the inputs: torch.zeros(shape, dtype=x.dtype, "
              "device=x.device), or torch.zeros_like(x).",
        "ko": "float64여야 할 출력이 float32입니다: dtype= 없이 새 텐서로 만들어 값을 채웠거나"
              "(torch.zeros(...), torch.empty(...), 파이썬 숫자로 만든 torch.tensor(...)는 float32), "
              ".float()로 바꿨습니다. 입력과 같게 만드세요: "
              "torch.zeros(shape, dtype=x.dtype, device=x.device) 또는 torch.zeros_like(x)."},
    "top-level-code": {"en": "Line {line} is code at the top level of your file: it runs when the grader "
                             "imports the file, before any check. Keep tries and demos under "
                             "if __name__ == \"__main__\": (or delete them).",
                       "ko": "{line}번째 줄은 파일의 최상위 코드입니다: 채점기가 파일을 import할 때 어떤 "
                             "검사보다 먼저 실행됩니다. 시험 실행과 데모는 "
                             "if __name__ == \"__main__\": 아래에 두거나 지우세요."},
    "top-level-slow": {"en": "Importing your file did not finish in time: code at its top level (a loop, a "
                             "training run, input()) runs when the grader imports the file. Keep it under "
                             "if __name__ == \"__main__\": (or delete it).",
                       "ko": "파일 import가 제한 시간 안에 끝나지 않았습니다: 최상위 코드(반복문, 학습 실행, "
                             "input())는 채점기가 파일을 import할 때 실행됩니다. "
                             "if __name__ == \"__main__\": 아래에 두거나 지우세요."},
    "unreached": {"en": "No gradient reaches {argument}: through autograd, your output does not depend on "
                        "it. Either it is left out, or something between it and the output cuts the graph: "
                        "x.detach(), x.data, x.item(), x.numpy(), torch.tensor(x), or copying it "
                        "into a module (load_state_dict, copy_, nn.Parameter(...)). Compute with the tensors "
                        "you are given (torch.func.functional_call runs a module on them).",
                  "ko": "{argument}까지 기울기가 전달되지 않습니다: autograd로 보면 출력이 이 값에 의존하지 "
                        "않습니다. 빠뜨렸거나, 출력까지 가는 중간에 계산 그래프가 끊겼습니다: "
                        "x.detach(), x.data, x.item(), x.numpy(), torch.tensor(x), "
                        "모듈에 값 복사(load_state_dict, copy_, nn.Parameter(...)). "
                        "주어진 텐서로 직접 계산하세요(모듈을 쓰려면 torch.func.functional_call)."},
}
"""Causes found without a known mistake (``checks.patterns``)."""


_COPY_WHOLE = {"en": "; copy it whole, from '{prefix}' to its end",
               "ko": ". 토큰 전체를 '{prefix}'부터 끝까지 복사하세요"}

ERRORS: dict[str, dict[str, str]] = {
    "error-line": {"en": "grade: error: {message}", "ko": "grade: 오류: {message}"},
    "interrupted": {"en": "grade: interrupted", "ko": "grade: 중단되었습니다"},
    "no-course-file": {"en": "no course.yaml in {folder} or any parent folder; run grade inside the course "
                             "folder or pass --course PATH",
                       "ko": "{folder}와 그 상위 폴더에 course.yaml이 없습니다. 과목 폴더 안에서 grade를 "
                             "실행하거나 --course PATH를 주세요"},
    "unknown-exercise": {"en": "this course has no exercise '{name}'. Its exercises: {ids}",
                         "ko": "이 과목에는 '{name}' 과제가 없습니다. 과제 목록: {ids}"},
    "unknown-exercise-close": {"en": "this course has no exercise '{name}'. Did you mean '{close}'? "
                                     "Its exercises: {ids}",
                               "ko": "이 과목에는 '{name}' 과제가 없습니다. '{close}'을(를) 찾으셨나요? "
                                     "과제 목록: {ids}"},
    "no-such-notebook": {"en": "{path}: no such notebook", "ko": "{path}: 그런 노트북이 없습니다"},
    "notebook-without-functions": {
        "en": "{path}: defines none of the course's functions ({wanted}); or grade one exercise: "
              "grade exercise-NN --file NOTEBOOK",
        "ko": "{path}: 과목의 함수({wanted})를 하나도 정의하지 않습니다. 과제 하나만 채점하려면: "
              "grade exercise-NN --file NOTEBOOK"},
    "check-outside-notebook": {
        "en": "check() grades a notebook's functions from inside Jupyter or Colab; in a terminal, run: "
              "grade exercise-NN --file YOUR_FILE",
        "ko": "check()는 Jupyter나 Colab 안에서 노트북의 함수를 채점합니다. 터미널에서는 "
              "grade exercise-NN --file YOUR_FILE을 실행하세요"},
    "no-cuda": {"en": "--device cuda: torch sees no CUDA GPU on this machine (torch {version}); "
                      "use --device cpu or auto",
                "ko": "--device cuda: 이 컴퓨터에서 torch가 CUDA GPU를 찾지 못했습니다 (torch {version}). "
                      "--device cpu 또는 auto를 쓰세요"},
    "no-exercise-file": {"en": "No exercise file was found in the submission. Expected any of: {expected}",
                         "ko": "제출물에서 과제 파일을 찾지 못했습니다. "
                               "다음 중 하나가 있어야 합니다: {expected}"},
    "replay-not-a-token": {"en": "--replay: not a replay token (they start with '{prefix}'); copy it whole "
                                 "from the failing output",
                           "ko": "--replay: 재실행 토큰이 아닙니다 (토큰은 '{prefix}'로 시작합니다). "
                                 "실패한 검사의 출력에서 전체를 복사하세요"},
    "replay-characters": {
        "en": "--replay: the token is damaged: it has characters a token never has (only letters, digits, "
              "'-' and '_')" + _COPY_WHOLE["en"],
        "ko": "--replay: 토큰이 손상되었습니다: 토큰에 없는 문자가 있습니다 (영문자, 숫자, '-', '_'만 "
              "씁니다)" + _COPY_WHOLE["ko"]},
    "replay-too-large": {"en": "--replay: the token is damaged: it unpacks to more than any input"
                               + _COPY_WHOLE["en"],
                         "ko": "--replay: 토큰이 손상되었습니다: 풀면 어떤 입력보다도 큽니다"
                               + _COPY_WHOLE["ko"]},
    "replay-cut-short": {"en": "--replay: the token is damaged: it is cut short" + _COPY_WHOLE["en"],
                         "ko": "--replay: 토큰이 손상되었습니다: 중간에 잘렸습니다" + _COPY_WHOLE["ko"]},
    "replay-checksum": {"en": "--replay: the token is damaged: it was cut or changed: its checksum does not "
                              "match" + _COPY_WHOLE["en"],
                        "ko": "--replay: 토큰이 손상되었습니다: 잘렸거나 바뀌어 체크섬이 맞지 않습니다"
                              + _COPY_WHOLE["ko"]},
    "replay-not-a-check": {"en": "--replay: the token is damaged: it unpacks, but not to a check and its "
                                 "input" + _COPY_WHOLE["en"],
                           "ko": "--replay: 토큰이 손상되었습니다: 풀리지만 검사와 입력이 들어 있지 "
                                 "않습니다" + _COPY_WHOLE["ko"]},
    "replay-other-exercise": {"en": "--replay: {exercise} has no check named '{check}' (is the token from "
                                    "another exercise?)",
                              "ko": "--replay: {exercise}에는 '{check}'라는 검사가 없습니다 (다른 과제의 "
                                    "토큰인가요?)"},
}
"""What a student's command can get wrong, as one line (``errors.GraderError`` with a key). The course
author's and instructor's errors (course.yaml, gradebooks, class runs) are in English only."""


def error_line(error: GraderError, lang: str) -> str:
    """``grade: error: ...``, as the command line and a notebook's ``check()`` print it."""
    return text(ERRORS, "error-line", lang, message=error.said(lang))


def text(table: dict[str, dict[str, str]], key: str, lang: str, **values: Any) -> str:
    """Look up ``key`` in ``lang`` and fill it; unknown placeholders read '?'."""
    entry = table.get(key, {})
    template = entry.get(lang) or entry.get("en") or key
    return template.format_map(_Blank(values))
