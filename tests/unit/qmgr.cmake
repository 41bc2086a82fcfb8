# Unit tests of the queue: the queue file format and its durable path.
postern_unit_test(test_queue_file
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_queue_file.c)
