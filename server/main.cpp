#include <cstdio>
#include "core/version.hpp"
int main() { std::printf("%s\n", timepool::version().data()); return 0; }
