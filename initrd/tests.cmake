# SPDX-License-Identifier: MIT
# Unit test of the initrd packer (initrd/pack.c); include()d by tests/.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CHECK)
  pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET GLOBAL check)
endif()

add_executable(test_pack ${CMAKE_SOURCE_DIR}/tests/unit/test_pack.c)
target_compile_options(test_pack PRIVATE ${COPRA_WARNINGS})
target_link_libraries(test_pack PRIVATE copra_pack copra_abi PkgConfig::CHECK)
add_test(NAME unit.pack COMMAND test_pack)
set_tests_properties(unit.pack PROPERTIES LABELS unit)
