# Packaging tests (ctest -L packaging): a small program builds and runs
# against lamina the three ways README.md offers: find_package after
# `cmake --install`, add_subdirectory, and FetchContent (from a source
# directory and from a file:// tarball, no network), the same with stb hidden
# (lamina without its images component), and lamina's own targets' view of
# its headers. The consumer projects
# are in consumer/; consumer/run_consumer.cmake drives one of them with the
# same compiler, flags, generator and build type as this build. Each test
# works in its own folder under <build>/tests/packaging/ and starts from scratch.
set(LAMINA_PACKAGING_MODES find_package find_package_no_stb find_package_images_no_stb add_subdirectory
    add_subdirectory_no_stb fetchcontent_source_dir fetchcontent_url own_targets)
foreach(mode IN LISTS LAMINA_PACKAGING_MODES)
  add_test(NAME packaging.${mode}
    COMMAND ${CMAKE_COMMAND}
      -DMODE=${mode}
      -DLAMINA_SOURCE_DIR=${lamina_SOURCE_DIR}
      -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/packaging/${mode}
      -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
      "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}"
      "-DGENERATOR=${CMAKE_GENERATOR}"
      -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
      -DBUILD_TYPE=$<CONFIG>
      "-DCOMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}"
      "-DTOOLCHAIN_FILE=${CMAKE_TOOLCHAIN_FILE}"
      "-DSTB_DIR=${LAMINA_STB_INCLUDE_DIR}"
      -DVERSION=${lamina_VERSION}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer.cmake)
  set_tests_properties(packaging.${mode} PROPERTIES LABELS packaging TIMEOUT 300)
endforeach()
