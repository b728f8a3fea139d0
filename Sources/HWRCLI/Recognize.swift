import ArgumentParser
struct Recognize: ParsableCommand { func run() throws {} }
