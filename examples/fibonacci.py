"""An example file for `make demo`: Gemini writes the missing function below."""





def main() -> None:
    for n in range(10):
        print(n, fibonacci(n))


if __name__ == "__main__":
    main()
