# faultline - install rules, package config and build-tree export (included when FAULTLINE_INSTALL).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FAULTLINE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/faultline"
    CACHE STRING "Where faultline's package config files are installed, relative to the prefix")
mark_as_advanced(FAULTLINE_INSTALL_CMAKEDIR)

# faultline::gtest exists only when GoogleTest was found at configure time.
set(faultline_install_targets faultline)
set(FAULTLINE_PACKAGE_HAS_GTEST OFF)
if(TARGET faultline_gtest)
  list(APPEND faultline_install_targets faultline_gtest faultline_gtest_main)
  set(FAULTLINE_PACKAGE_HAS_GTEST ON)
endif()

install(TARGETS ${faultline_install_targets}
  EXPORT faultline-targets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT faultline_runtime
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT faultline_runtime NAMELINK_COMPONENT faultline_development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT faultline_development
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT faultline_development
)

install(EXPORT faultline-targets
  NAMESPACE faultline::
  DESTINATION ${FAULTLINE_INSTALL_CMAKEDIR}
  COMPONENT faultline_development
)

# One config file serves both the install tree and the build tree: it only
# refers to files next to itself.
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/faultline-config.cmake.in
  ${PROJECT_BINARY_DIR}/faultline-config.cmake
  INSTALL_DESTINATION ${FAULTLINE_INSTALL_CMAKEDIR}
  NO_SET_AND_CHECK_MACRO
)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/faultline-config-version.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion
)
# The config includes faultline-pch.cmake from its own directory: a copy goes next to both.
configure_file(${CMAKE_CURRENT_LIST_DIR}/faultline-pch.cmake ${PROJECT_BINARY_DIR}/faultline-pch.cmake COPYONLY)
install(FILES
    ${PROJECT_BINARY_DIR}/faultline-config.cmake
    ${PROJECT_BINARY_DIR}/faultline-config-version.cmake
    ${PROJECT_BINARY_DIR}/faultline-pch.cmake
  DESTINATION ${FAULTLINE_INSTALL_CMAKEDIR}
  COMPONENT faultline_development
)

# Build-tree package: find_package(faultline) with faultline_DIR set to this
# build directory gives the same faultline:: targets without installing.
export(EXPORT faultline-targets
  NAMESPACE faultline::
  FILE ${PROJECT_BINARY_DIR}/faultline-targets.cmake
)
