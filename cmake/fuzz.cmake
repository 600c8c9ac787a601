# libFuzzer targets (tests/fuzz/) and their short runs in ctest.
#
# Two roles, by tree:
# - A clang tree with CMAKE_BUILD_TYPE=Fuzz (`scripts/fuzz.sh` makes it in
#   build-fuzz/): the libraries are built with coverage instrumentation and
#   ASan + UBSan, and each tests/fuzz/fuzz_<name>.c becomes an executable
#   fuzz_<name> linked with libFuzzer's main. `fuzz_targets` builds them all.
# - Every other tree (the gcc trees of `scripts/dev test`): one ctest entry
#   fuzz.<name> per target, which runs `scripts/fuzz.sh --smoke <name>`
#   (builds build-fuzz with clang when needed, fuzzes a few seconds from the
#   committed corpus, fails on any finding).

# Every tests/fuzz/fuzz_<name>.c is a target (scripts/fuzz.sh finds them
# the same way).
file(GLOB authgate_fuzz_sources CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
set(AUTHGATE_FUZZ_TARGETS)
foreach(fuzz_source IN LISTS authgate_fuzz_sources)
  get_filename_component(fuzz_name ${fuzz_source} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" fuzz_name ${fuzz_name})
  list(APPEND AUTHGATE_FUZZ_TARGETS ${fuzz_name})
endforeach()
# Targets that need libcrypto (authgate_tokens); the rest use only
# authgate_pure.
set(AUTHGATE_FUZZ_TOKEN_TARGETS session)

if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  # Coverage instrumentation without libFuzzer's main for the libraries;
  # only the fuzz executables add -fsanitize=fuzzer (main and runtime).
  set(CMAKE_C_FLAGS_FUZZ
    "-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all")
  set(CMAKE_EXE_LINKER_FLAGS_FUZZ "-fsanitize=address,undefined")

  add_custom_target(fuzz_targets)
  foreach(fuzz_name IN LISTS AUTHGATE_FUZZ_TARGETS)
    add_executable(fuzz_${fuzz_name} tests/fuzz/fuzz_${fuzz_name}.c)
    target_include_directories(fuzz_${fuzz_name} PRIVATE tests/fuzz)
    target_compile_options(fuzz_${fuzz_name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${fuzz_name} PRIVATE -fsanitize=fuzzer)
    if(fuzz_name IN_LIST AUTHGATE_FUZZ_TOKEN_TARGETS)
      target_link_libraries(fuzz_${fuzz_name} PRIVATE authgate_tokens)
    else()
      target_link_libraries(fuzz_${fuzz_name} PRIVATE authgate_pure)
    endif()
    # Outside the Fuzz build type the libraries carry no coverage, so the
    # targets would fuzz blind: build them only when asked for.
    if(NOT CMAKE_BUILD_TYPE STREQUAL "Fuzz")
      set_target_properties(fuzz_${fuzz_name} PROPERTIES EXCLUDE_FROM_ALL TRUE)
    endif()
    add_dependencies(fuzz_targets fuzz_${fuzz_name})
  endforeach()
elseif(CMAKE_BUILD_TYPE STREQUAL "Fuzz")
  message(FATAL_ERROR
    "the Fuzz build type needs clang (libFuzzer): configure with CC=clang")
endif()

# The short runs go with the ordinary tree only: the targets carry their
# own ASan+UBSan, so running them again from the Asan tree adds nothing.
if(NOT CMAKE_BUILD_TYPE MATCHES "^(Fuzz|Asan)$")
  foreach(fuzz_name IN LISTS AUTHGATE_FUZZ_TARGETS)
    add_test(NAME fuzz.${fuzz_name}
      COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/fuzz.sh --smoke ${fuzz_name})
    set_tests_properties(fuzz.${fuzz_name} PROPERTIES
      LABELS fuzz
      # The first entry to run builds build-fuzz (tens of seconds); the
      # others wait for it on the lock.
      TIMEOUT 900)
  endforeach()
endif()
