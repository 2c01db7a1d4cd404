# Compiles through ccache when it is installed (scripts/install-deps.sh installs it), unless a compiler
# launcher was given (-DCMAKE_CXX_COMPILER_LAUNCHER=...) or -DSTREAMCTL_CCACHE=OFF. Included after project(),
# before any target is defined. A cold build gains nothing; a rebuild of unchanged sources (a second build
# directory, scripts/test.sh after scripts/quickstart.sh, CI with a kept cache) is mostly cache hits.
option(STREAMCTL_CCACHE "Compile through ccache when it is installed" ON)
if(STREAMCTL_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER AND NOT DEFINED ENV{CMAKE_CXX_COMPILER_LAUNCHER})
  find_program(STREAMCTL_CCACHE_PROGRAM ccache)
  if(STREAMCTL_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER ${STREAMCTL_CCACHE_PROGRAM})
    set(CMAKE_C_COMPILER_LAUNCHER ${STREAMCTL_CCACHE_PROGRAM})
    message(STATUS "streamctl: compiling through ${STREAMCTL_CCACHE_PROGRAM}")
  endif()
endif()
