# SPDX-License-Identifier: MIT
# Host unit test of the VMM's config parser (Check).  include()d by
# tests/CMakeLists.txt; builds with the host compiler, not freestanding.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)

add_executable(test_config
    ${CMAKE_SOURCE_DIR}/tests/unit/test_config.c
    ${CMAKE_SOURCE_DIR}/servers/vmm/config.c)
target_include_directories(test_config PRIVATE ${CMAKE_SOURCE_DIR}/servers/vmm)
target_compile_options(test_config PRIVATE ${COPRA_WARNINGS})
target_link_libraries(test_config PRIVATE PkgConfig::CHECK)

add_test(NAME unit.config COMMAND test_config)
set_tests_properties(unit.config PROPERTIES LABELS unit)
