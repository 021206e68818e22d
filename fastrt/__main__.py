"""``python -m fastrt [HANDLER]``: run the handler named here, or by ``_HANDLER``."""

import sys


def main(argv: list) -> None:
    args = argv[1:]
    if args and args[0] in ("--version", "-V"):
        from fastrt.start import describe

        print(describe())
        return
    if args and args[0] in ("--help", "-h"):
        print(
            "usage: python -m fastrt [HANDLER]\n\n"
            "Serve HANDLER (module.function; default: $_HANDLER) on the Lambda Runtime API\n"
            "at $AWS_LAMBDA_RUNTIME_API. --version shows the version, core and transport."
        )
        return
    if len(args) > 1 or (args and args[0].startswith("-")):
        sys.stderr.write("usage: python -m fastrt [HANDLER]\n")
        sys.exit(2)
    from fastrt.start import run

    run(handler_name=args[0] if args else None)


if __name__ == "__main__":
    main(sys.argv)
