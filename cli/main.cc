// streamctl entry point (being built: see cli/).
#include <cstdio>
int main() {
  std::fprintf(stderr, "streamctl: error: the command line is not built yet\n");
  return 1;
}
