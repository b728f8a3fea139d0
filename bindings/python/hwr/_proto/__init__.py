"""Generated protobuf code of ``proto/hwr.proto`` (the wire API of ``hwr worker``).

``hwr_pb2`` is written by ``bindings/regenerate-proto.sh`` (protoc 3.21.12, then made a module of
this subpackage); do not edit it by hand. Importing it needs the ``protobuf`` package (the
``client`` extra: ``pip install 'hwr[client]'``); nothing is imported here, so ``import hwr`` works
without it.
"""
